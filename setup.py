"""Ships the studies with the package: a wheel carries the notebooks, the recipes and the sample.

They live at the top of the repository (notebooks/, params/, data/sample/), where readers and
nbval find them; a wheel copies them into ``reciprocity_utils/shipped/``, where an installed
package finds them (:mod:`reciprocity_utils.paths`). An editable install reads the checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {
    "notebooks": ["[0-9][0-9]-*.ipynb"],
    "params": ["*.yaml"],
    "data/sample": ["*.csv", "*.json"],
    "data": ["README.md"],
}


class BuildWithStudies(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the checkout itself is read
        target = Path(self.build_lib) / "reciprocity_utils" / "shipped"
        for folder, patterns in SHIPPED.items():
            for pattern in patterns:
                for source in sorted((ROOT / folder).glob(pattern)):
                    destination = target / folder / source.name
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, destination)


setup(cmdclass={"build_py": BuildWithStudies})
