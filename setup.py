"""The optional C speedups of the audit (codetier/audit/_speedups.c); everything else is
in pyproject.toml. Where no compiler is at hand the build goes on without them, and
codetier runs the same code in Python (codetier/audit/decoded.py)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "codetier.audit._speedups",
            ["codetier/audit/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
