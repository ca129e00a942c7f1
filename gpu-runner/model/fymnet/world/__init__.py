"""The synthetic video world: clip descriptions and captions (spec), torch rendering (render), and the
motion families only MotionBench uses (ood_motions)."""
