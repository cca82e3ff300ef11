"""The course's grader (``python scripts/exercises.py grade``), in modules:

notebooks   release templates, careful reading of submissions, the merge (solution cells only)
_inkernel   the code the grader runs inside each kernel: pristine references, a private copy
            of the checks, hidden tests, the verdict channel
sandbox     bubblewrap per submission (or the fallback), limits, killing the whole tree
kernel      one kernel over IPC: cells with hard deadlines, capped outputs
runner      one notebook: merge, run, one record per exercise
reports     JSON records, CSVs, Markdown feedback
grader      the class: discovery, parallel workers, resume, CSVs

docs/grading.md is the instructor's guide (what is protected and what is not).
"""
from .grader import default_jobs, grade  # noqa: F401
