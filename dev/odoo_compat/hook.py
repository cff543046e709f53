"""Run a patch function right after a given module is first imported.

A meta-path finder that only answers for the registered module names: it
delegates the real lookup to the rest of ``sys.meta_path`` and wraps the
loader so that the patch runs on the freshly executed module. If the module
is already imported when a patch is registered, the patch runs at once.
"""
import importlib.abc
import sys

_patches = {}


def register(module_name, patch):
    _patches[module_name] = patch
    module = sys.modules.get(module_name)
    if module is not None:
        _apply(module)


def _apply(module):
    patch = _patches.pop(module.__name__, None)
    if patch is not None:
        patch(module)


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _apply(module)

    def __getattr__(self, name):
        # get_source, get_code, is_package ... as the real loader has them
        return getattr(self._loader, name)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in _patches:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, 'exec_module'):
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


_finder = _PostImportFinder()


def install():
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
