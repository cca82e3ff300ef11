"""course_lib: the small NumPy library behind the course "Training neural networks".

PyTorch-shaped objects without autograd: every layer writes its own backward pass.
One import for every notebook: ``import course_lib as cl``.
"""
from . import data, diagnostics, experiments, functional, init, plots, search
from .activations import ELU, GELU, LeakyReLU, PReLU, ReLU, SiLU, Sigmoid, Tanh
from .averaging import AveragedModel, update_bn
from .clip import clip_grad_norm, clip_grad_value, max_norm
from .dropout import Dropout
from .gradcheck import GradcheckResult, gradcheck, numerical_gradient, rel_error
from .layers import Linear, Maxout
from .losses import BCEWithLogits, MSELoss, SoftmaxCrossEntropy
from .module import Module, Parameter, Sequential
from .normalization import BatchNorm1d, LayerNorm
from .optim import SGD, AdaGrad, Adam, AdamW, Optimizer, RMSProp
from .regularizers import L1, L2, ElasticNet
from .experiments import SeedRuns, over_seeds, paired
from .rng import course_seed, get_rng, make_rng, seeds, set_seed
from .schedules import CosineWarmupLR, ExponentialLR, InverseTimeLR, StepLR
from .train import Callback, EarlyStopping, History, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    "data", "diagnostics", "experiments", "functional", "init", "plots", "search",
    "ELU", "GELU", "LeakyReLU", "PReLU", "ReLU", "SiLU", "Sigmoid", "Tanh",
    "AveragedModel", "update_bn",
    "clip_grad_norm", "clip_grad_value", "max_norm", "Dropout",
    "GradcheckResult", "gradcheck", "numerical_gradient", "rel_error",
    "Linear", "Maxout", "BCEWithLogits", "MSELoss", "SoftmaxCrossEntropy",
    "Module", "Parameter", "Sequential", "BatchNorm1d", "LayerNorm",
    "SGD", "AdaGrad", "Adam", "AdamW", "Optimizer", "RMSProp",
    "L1", "L2", "ElasticNet", "course_seed", "get_rng", "make_rng", "seeds", "set_seed",
    "SeedRuns", "over_seeds", "paired",
    "CosineWarmupLR", "ExponentialLR", "InverseTimeLR", "StepLR",
    "Callback", "EarlyStopping", "History", "evaluate", "fit",
]
