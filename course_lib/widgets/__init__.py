"""Interactive explorers for the notebooks. Each widget's computation is a pure, seeded
function (testable without a browser); the ipywidgets front-end only wires controls to it.

One module per notebook — welcome, foundations (00), activations (01), initialization (02),
backprop (03), batchnorm (04), dropout (05), optimizers (06), regularization (07),
practice (08) — imported where used, e.g.
``from course_lib.widgets.initialization import init_explorer``. Each notebook's main widget
carries the CSS class ``course-main-widget``, which the browser test looks for.
"""
