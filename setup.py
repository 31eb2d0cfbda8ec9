"""Builds vigil's one C extension, the feature kernels; everything else is in pyproject.toml.

The extension is optional: without a C compiler the install still succeeds and the
feature extractors run their numpy implementations (see src/vigil/features/_accel.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "vigil.features._kernels",
            sources=["src/vigil/features/_kernels.c"],
            extra_compile_args=["-O3", "-std=c11"],
            optional=True,
        )
    ]
)
