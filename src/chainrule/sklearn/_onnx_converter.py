"""stub"""


def register_skl2onnx() -> None:
    pass
