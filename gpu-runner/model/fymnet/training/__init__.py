"""Pretraining the base model (pretrain, its recipe), and the torch process's batched LoRA trainers."""
