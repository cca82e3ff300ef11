"""Instant feedback for the exercise notebooks: ``check_<name>(student_function)``.

A check runs the student's function on fixed inputs, prints one success line, or raises
AssertionError with a hint aimed at the likely mistake. It never catches the student's own
exceptions and never prints the solution. One module per exercise notebook; every check is
importable from here: ``from course_lib import checks; checks.check_mse(mse)``.
"""
from .welcome import check_mse
from .foundations import check_cross_entropy, check_initial_loss, check_softmax, check_standardize
from .activations import check_dead_fraction, check_elu, check_leaky_relu, check_sigmoid, check_sigmoid_grad
from .initialization import check_collapse_prediction, check_he, check_layer_stds, check_max_unit_difference, check_xavier
from .backprop import check_bug_hunt, check_linear_backward, check_numerical_gradient, check_rel_error, check_sigmoid_net_grads

__all__ = ["check_mse",
           "check_softmax", "check_cross_entropy", "check_initial_loss", "check_standardize",
           "check_sigmoid", "check_sigmoid_grad", "check_leaky_relu", "check_elu", "check_dead_fraction",
           "check_xavier", "check_he", "check_layer_stds", "check_collapse_prediction", "check_max_unit_difference",
           "check_linear_backward", "check_numerical_gradient", "check_rel_error", "check_sigmoid_net_grads", "check_bug_hunt"]
