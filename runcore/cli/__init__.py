"""The click command line. Heavy modules (grpc, protobuf) are imported only inside commands."""
