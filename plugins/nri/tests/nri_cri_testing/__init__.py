"""Generated protobuf modules for the CRI subset used by the tests (do not edit).

Regenerate with ``plugins/nri/gen-protos.sh`` from ``plugins/nri/protos/nri_cri_testing/``.
"""
