"""Interactive explorers for the notebooks. Each widget's computation is a pure, seeded
function (testable without a browser); the ipywidgets front-end only wires controls to it.
One module per notebook; import the one you need, e.g. ``from course_lib.widgets import init_explorer``.
"""
