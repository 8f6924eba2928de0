"""Generated protobuf/gRPC modules for containerd's API (do not edit).

Regenerate with ``scripts/gen-protos.sh`` from the protos under ``protos/``.
"""
