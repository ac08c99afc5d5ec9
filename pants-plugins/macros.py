"""BUILD-file prelude (`[GLOBAL] build_file_prelude_globs`): names shared by BUILD files."""

# The layering rule, one rule set per kind of layer; each layer's BUILD applies one of them with
# `__dependencies_rules__(...)`. `/**` is the declaring folder (the layer itself).

# ade.db and ade.storage: themselves and third-party code, never another ADE package.
LIBRARY_LAYER = ("*", "/**", "//3rdparty/**", "!*")

# ade.api and ade.worker: shared code only through ade.db and ade.storage, never each other.
SERVICE_LAYER = (
    "*",
    "/**",
    "//src/python/ade/db/**",
    "//src/python/ade/storage/**",
    "//src/python/ade:version",  # the VERSION data file every artifact shares (not code)
    "!//src/python/ade/**",
    "*",
)


# Type stubs are in the app resolve so mypy sees them beside the code, and dependency inference
# pairs them with the libraries they describe; artifacts must not carry them to users (a wheel
# would otherwise declare `Requires-Dist: boto3-stubs`). `!!` removes them from a whole closure.
WITHOUT_TYPE_STUBS = (
    "!!//3rdparty/python:reqs#boto3-stubs",
    "!!//3rdparty/python:reqs#types-openpyxl",
)


def ade_artifact(name, description, **extra):  # type: ignore[no-untyped-def]
    """The `provides=` of every ADE distribution: one place for the metadata they share.

    The version is added by the ade_pants.distribution_version plugin, from src/python/ade/VERSION.
    """
    return python_artifact(  # type: ignore[name-defined]  # noqa: F821 (a BUILD-file symbol)
        name=name,
        description=description,
        author="The ADE team",
        license="Proprietary",
        python_requires=">=3.11,<3.12",
        classifiers=[
            "Development Status :: 3 - Alpha",
            "License :: Other/Proprietary License",
            "Operating System :: POSIX :: Linux",
            "Programming Language :: Python :: 3",
            "Programming Language :: Python :: 3.11",
            "Topic :: Office/Business",
        ],
        **extra,
    )
