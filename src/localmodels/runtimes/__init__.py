"""Runtimes load a model's files and run them: onnx, llama, spacy, remote; plus the loaded-model cache."""
