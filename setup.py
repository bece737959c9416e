"""Build hooks that pyproject.toml cannot express.

- The built-in rubrics live in the top-level ``rubrics/`` folder (where a
  newcomer looks for them); ``build_py`` copies them into the wheel as
  ``judgekit/_rubrics/``.  Editable installs read ``rubrics/`` directly.
- Likewise the Hugging Face ``evaluate`` modules in ``metrics/<name>/<name>.py``
  go into the wheel as ``judgekit/_hf_metrics/<name>/<name>.py``
  (``judgekit.hf.metric_path(name)`` finds either).
- The compiled core is optional: ``Extension(optional=True)`` lets a machine
  without a C compiler install the pure-Python fallback, which gives the same
  results.  Set ``JUDGEKIT_PURE_PYTHON=1`` to skip the extension on purpose.
"""
from __future__ import annotations

import glob
import os
import shutil

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class build_py_with_rubrics(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = os.path.join(self.build_lib, "judgekit", "_rubrics")
        os.makedirs(target, exist_ok=True)
        for path in sorted(glob.glob(os.path.join(HERE, "rubrics", "*.yaml"))):
            shutil.copy2(path, target)
        for path in sorted(glob.glob(os.path.join(HERE, "metrics", "*", "*.py"))):
            name = os.path.basename(os.path.dirname(path))
            if os.path.basename(path) != name + ".py":  # evaluate's layout: <name>/<name>.py
                continue
            folder = os.path.join(self.build_lib, "judgekit", "_hf_metrics", name)
            os.makedirs(folder, exist_ok=True)
            shutil.copy2(path, folder)


def _extensions() -> list[Extension]:
    if os.environ.get("JUDGEKIT_PURE_PYTHON"):
        return []
    exts = []
    # Each compiled module is registered here by the change that adds it;
    # all are optional so that a compiler-less install still works.
    cjieba = os.path.join("judgekit", "text", "_cjieba.c")
    if os.path.exists(os.path.join(HERE, cjieba)):
        exts.append(Extension("judgekit._cjieba", sources=[cjieba], optional=True, extra_compile_args=["-O2"] if os.name != "nt" else []))
    ckernels = os.path.join("judgekit", "ngram", "_ckernels.c")
    if os.path.exists(os.path.join(HERE, ckernels)):
        # no fused multiply-add: the BLEU float operations must round as Python's do
        exts.append(Extension("judgekit._ckernels", sources=[ckernels], optional=True,
                              extra_compile_args=["-O2", "-ffp-contract=off"] if os.name != "nt" else ["/fp:precise"]))
    return exts


setup(cmdclass={"build_py": build_py_with_rubrics}, ext_modules=_extensions())
