"""sf-spark: early-warning pipeline for firms in difficulty (PySpark, Delta, MLflow)."""

from __future__ import annotations

from setuptools import find_packages, setup

# Versions verified together on the target machine kind (see ../shared/docs/stack.md).
RUNTIME = [
    "pyspark==4.2.0",
    "delta-spark==4.4.0",
    "deltalake==1.6.6",
    "mlflow==3.17.2",
    "pandas>=2.2,<3",
    "numpy>=1.26,<3",
    "pyarrow>=15,<27",
    "hyperopt==0.3.0",
    "xgboost-cpu==3.2.0",
    "pydantic>=2.7,<3",
    "PyYAML>=6,<7",
    "openpyxl>=3.1,<4",
    "matplotlib>=3.8,<4",
    "psutil>=5.9",
]

TEST = [
    "pytest>=8,<10",
    "chispa==0.12.0",
    "duckdb==1.5.5",
    "duckdb-extension-delta==1.5.5",
    "ruff>=0.6",
]

NOTEBOOKS = ["nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6.29"]

BENCH = ["lightgbm>=4.3"]

setup(
    name="sf-spark",
    version="0.1.0",
    description="Early-warning pipeline for firms in difficulty: calibrated 12/18/24-month failure probabilities",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["sf_spark", "sf_spark.*"]),
    package_data={"sf_spark": ["conf/*.yaml", "*.properties", "features/catalogue.json"]},
    install_requires=RUNTIME,
    extras_require={"test": TEST, "notebooks": NOTEBOOKS, "bench": BENCH, "dev": TEST + NOTEBOOKS + BENCH},
    entry_points={"console_scripts": ["sf-spark=sf_spark.cli:main"]},
)
