"""The core's ctr-compatible features, written as ordinary plugins on the public hooks.

Each module owns one concern and the flags for it; :data:`runcore.plugin.manager.BUILTIN_ORDER`
gives their call order, which reproduces the order in which ``ctr run`` applies its options.
"""
