"""The network: a pixel-space video DiT with LoRA slots on every self-attention."""
