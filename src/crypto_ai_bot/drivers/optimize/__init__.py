"""The optimiser: an Optuna search over a strategy's declared parameters and its stops, judged
walk-forward (windows.py: the spans; search.py: one study a span; walkforward.py: the windows,
the out-of-sample results and the hold-out). Optuna is the `optimize` extra."""
