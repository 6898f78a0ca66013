"""Person detection (COCO YOLOv5n v6.1 on ONNX Runtime, anchors decoded in numpy) and counting."""
