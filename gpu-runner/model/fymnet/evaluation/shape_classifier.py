"""A small CNN that names the shape of a single-object clip from its per-frame object masks, trained
on rendered clips made to look like generated ones."""
from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from fymnet.evaluation.masks import brightness, recentre, soft_mask
from fymnet.vocab import SHAPES
from fymnet.world.render import render
from fymnet.world.spec import SIZE, sample_spec


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """(N,1,H,W) Gaussian blur with a per-sample sigma (0 = none), 5×5 separable."""
    r = torch.arange(-2, 3, device=x.device, dtype=x.dtype)
    k = torch.exp(-(r[None] ** 2) / (2 * sigma[:, None].clamp_min(1e-3) ** 2))
    k = k / k.sum(1, keepdim=True)  # (N,5)
    n = x.shape[0]
    xs = F.pad(x, (2, 2, 2, 2), mode="replicate").reshape(1, n, SIZE + 4, SIZE + 4)
    xs = F.conv2d(xs, k[:, None, None, :], groups=n)
    xs = F.conv2d(xs, k[:, None, :, None], groups=n)
    return xs.reshape(n, 1, SIZE, SIZE)


class ShapeClassifier:
    """Shape from a clip's per-frame object masks (single-object clips)."""

    def __init__(self, dev, clips: int = 12288, steps: int = 4000, seed: int = 0):
        rng = random.Random(seed)
        torch.manual_seed(seed)
        specs = [sample_spec(rng, "single-object") for _ in range(clips)]
        bright, labels = [], []
        for i in range(0, clips, 512):
            chunk = specs[i:i + 512]
            bright.append(brightness(render(chunk, dev)).half())
            labels += [SHAPES.index(s.sprites[0].shape) for s in chunk]
        self.bright = torch.cat(bright)  # (N,F,H,W)
        self.labels = torch.tensor(labels, device=dev)
        n_train = int(clips * 0.9)
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 48, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(48, 48, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(48, 96, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(96, 96, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
            torch.nn.Linear(96, len(SHAPES))).to(dev)
        opt = torch.optim.AdamW(self.net.parameters(), 2e-3, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps)
        frames = self.bright.shape[1]
        for _ in range(steps):
            idx = torch.randint(0, n_train, (256,), device=dev)
            f = torch.randint(0, frames, (256,), device=dev)
            b = self.bright[idx, f].float()[:, None]
            # Generated clips are softer and noisier than renders: blur, noise and shift the brightness.
            b = _blur(b, torch.rand(256, device=dev) * 1.0)
            b = b + 0.04 * torch.randn_like(b) + (torch.rand(256, 1, 1, 1, device=dev) - 0.5) * 0.1
            loss = F.cross_entropy(self.net(recentre(soft_mask(b))), self.labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.net.eval()
        held = torch.arange(n_train, clips, device=dev)
        with torch.no_grad():
            logp = self.log_probs(self.bright[held].float())
        self.frame_accuracy = float((logp.argmax(2) == self.labels[held, None]).float().mean())
        self.clip_accuracy = float((self.vote(logp) == self.labels[held]).float().mean())

    @torch.no_grad()
    def log_probs(self, bright: torch.Tensor) -> torch.Tensor:
        """(N,F,H,W) brightness -> (N,F,shapes) log-probabilities."""
        n, f = bright.shape[:2]
        out = []
        for i in range(0, n, 256):
            b = bright[i:i + 256]
            m = recentre(soft_mask(b).reshape(-1, 1, SIZE, SIZE))
            out.append(F.log_softmax(self.net(m), 1).reshape(b.shape[0], f, -1))
        return torch.cat(out)

    @staticmethod
    def vote(logp: torch.Tensor) -> torch.Tensor:
        """Each clip's shape: the argmax of its frames' mean log-probability."""
        return logp.mean(1).argmax(1)

    def predict(self, clips: torch.Tensor) -> torch.Tensor:
        """(N,F,3,H,W) -> (N,) shape indices."""
        return self.vote(self.log_probs(brightness(clips)))
