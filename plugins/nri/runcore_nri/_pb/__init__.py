"""Generated protobuf modules for ttrpc and NRI v0.6.1 (do not edit).

Regenerate with ``plugins/nri/gen-protos.sh`` from the protos under ``plugins/nri/protos/``.
"""
