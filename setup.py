"""setuptools glue for pyproject.toml: the extension and the CLI come from this repository's CMake
build (targets _epochwatt and epochwatt_cli), built into build/pip/ and copied into the package.

Environment: EPOCHWATT_CMAKE_ARGS adds CMake arguments (e.g. -DCMAKE_CXX_COMPILER=clang++);
EPOCHWATT_BUILD_JOBS sets the parallel jobs (default: the CPU count). The interpreter that runs pip
is the one the extension is built for (-DPython3_EXECUTABLE=sys.executable).
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(epochwatt VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(self.build_temp).resolve() / "cmake"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            # RelWithDebInfo without -g: the flags the test suite runs with (-O2), and no debug
            # info in the wheel (36 MB less for the extension, 45 MB for the CLI).
            "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG",
            "-DEPOCHWATT_BUILD_PYTHON=ON", "-DEPOCHWATT_BUILD_TESTS=OFF",
            "-DEPOCHWATT_BUILD_BENCH=OFF", "-DEPOCHWATT_BUILD_EXAMPLES=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ] + shlex.split(os.environ.get("EPOCHWATT_CMAKE_ARGS", ""))
        jobs = os.environ.get("EPOCHWATT_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "epochwatt_python", "-j", jobs], check=True)
        built = build_dir / "python" / "epochwatt"
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        so = next(built.glob("_epochwatt*.so"))
        shutil.copy2(so, target)
        (target.parent / "_bin").mkdir(exist_ok=True)
        shutil.copy2(built / "_bin" / "epochwatt", target.parent / "_bin" / "epochwatt")


# build/pip/ holds setuptools' own build and egg-info folders, apart from make's build/.
os.makedirs(ROOT / "build" / "pip", exist_ok=True)

setup(
    version=project_version(),
    package_dir={"": "python"},
    packages=find_packages("python"),
    package_data={"epochwatt": ["py.typed", "*.pyi", "carbontracker/*.pyi"]},
    ext_modules=[Extension("epochwatt._epochwatt", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": str(ROOT / "build" / "pip")}, "egg_info": {"egg_base": str(ROOT / "build" / "pip")}},
    zip_safe=False,
)
