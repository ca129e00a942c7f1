"""Pretraining the base model (pretrain, its recipe), and the torch worker's batched LoRA trainers."""
