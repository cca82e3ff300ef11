"""Instant feedback for the exercise notebooks: ``check_<name>(student_function)``.

A check runs the student's function on fixed inputs, prints one success line, or raises
AssertionError with a hint aimed at the likely mistake. It never catches the student's own
exceptions and never prints the solution. One module per exercise notebook; every check is
importable from here: ``from course_lib import checks; checks.check_mse(mse)``.
"""
from .welcome import check_mse

__all__ = ["check_mse"]
