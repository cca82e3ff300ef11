"""Instant feedback for the exercise notebooks: ``check_<name>(student_function)``.

A check runs the student's function on fixed inputs, prints one success line, or raises
AssertionError with a hint aimed at the likely mistake. It never catches the student's own
exceptions and never prints the solution. One module per exercise notebook; every check is
importable from here: ``from course_lib import checks; checks.check_mse(mse)``.
"""
from .welcome import check_mse
from .foundations import check_cross_entropy, check_initial_loss, check_softmax, check_standardize
from .activations import check_dead_fraction, check_elu, check_leaky_relu, check_sigmoid, check_sigmoid_grad
from .activations import check_first_dead_layer
from .initialization import check_collapse_prediction, check_he, check_layer_stds, check_max_unit_difference, check_xavier
from .backprop import check_bug_hunt, check_linear_backward, check_numerical_gradient, check_rel_error, check_sigmoid_net_grads
from .batchnorm import (check_batch_dependence, check_batchnorm_backward, check_batchnorm_backward_staged,
                        check_batchnorm_forward, check_bn_identity)
from .dropout import check_dropout_backward, check_dropout_forward, check_dropout_mean_prediction, check_eval_accuracy
from .optimizers import check_adam, check_adam_step_prediction, check_adamw, check_clip_grad_norm, check_nesterov, check_rmsprop, check_sgd_momentum
from .optimizers import check_momentum_rate_prediction, check_optimal_momentum
from .regularization import check_early_stopping, check_ensemble_variance, check_l1_penalty, check_l2_penalty, check_max_norm, check_smooth_labels
from .practice import check_find_mixing_layer, check_first_loss, check_log_uniform, check_overfit_tiny, check_random_search, check_read_scan

__all__ = ["check_mse",
           "check_softmax", "check_cross_entropy", "check_initial_loss", "check_standardize",
           "check_sigmoid", "check_sigmoid_grad", "check_leaky_relu", "check_elu", "check_dead_fraction",
           "check_first_dead_layer",
           "check_xavier", "check_he", "check_layer_stds", "check_collapse_prediction", "check_max_unit_difference",
           "check_linear_backward", "check_numerical_gradient", "check_rel_error", "check_sigmoid_net_grads", "check_bug_hunt",
           "check_batchnorm_forward", "check_batchnorm_backward", "check_batchnorm_backward_staged", "check_bn_identity",
           "check_batch_dependence",
           "check_dropout_forward", "check_dropout_backward", "check_dropout_mean_prediction", "check_eval_accuracy",
           "check_sgd_momentum", "check_nesterov", "check_rmsprop", "check_adam", "check_adam_step_prediction",
           "check_adamw", "check_clip_grad_norm", "check_optimal_momentum", "check_momentum_rate_prediction",
           "check_l2_penalty", "check_l1_penalty", "check_max_norm", "check_early_stopping", "check_smooth_labels", "check_ensemble_variance",
           "check_first_loss", "check_overfit_tiny", "check_log_uniform", "check_random_search", "check_read_scan",
           "check_find_mixing_layer"]
