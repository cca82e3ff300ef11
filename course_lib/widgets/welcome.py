"""The start page's demo widget: how the weight w and bias b of one sigmoid unit shape its curve.

Shows how a slider works in this course (notebooks/welcome.ipynb).
"""
import numpy as np

from ..functional import sigmoid

X = np.linspace(-6, 6, 241)


def unit_curve(w, b=0.0):
    """sigma(w x + b) on a fixed grid of x. Shapes: returns (241,)."""
    return sigmoid(w * X + b)


def draw(w, b):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(X, unit_curve(1.0), color="0.7", lw=1, label="w = 1, b = 0 (reference)")
    ax.plot(X, unit_curve(w, b), lw=2, label=f"w = {w:.2g}, b = {b:+.1f}")
    ax.set_xlabel("input x")
    ax.set_ylabel("output σ(w·x + b)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("one sigmoid unit: w sets the steepness, b shifts it")
    ax.legend(loc="lower right", fontsize=9)
    plt.show()
    return fig


def unit_explorer():
    """A log slider for w and a slider for b, redrawing the curve live."""
    import ipywidgets as W

    w = W.FloatLogSlider(value=1.0, base=10, min=-1, max=1.3, step=0.05, description="weight w",
                         continuous_update=True)
    b = W.FloatSlider(value=0.0, min=-4, max=4, step=0.1, description="bias b")
    box = W.interactive(draw, w=w, b=b)
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box
