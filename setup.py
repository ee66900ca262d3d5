"""The packages of the distribution (everything else is in pyproject.toml).

pyproject.toml's `[tool.setuptools.packages.find]` cannot add packages that lie outside the
folders it searches, and the templates and static files stay at the top of the repository (where
`pip install -e .` and `python run.py` use them). So the list is made here: every `workshop*`
package under workshop/ (folders without `__init__.py` too, e.g. the migrations and the
translations), plus `workshop.templates` and `workshop.static`, which pyproject.toml's
`package-dir` maps to templates/ and static/.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["workshop", "workshop.*"], exclude=["*.__pycache__"]),
        "workshop.templates",
        "workshop.static",
    ]
)
