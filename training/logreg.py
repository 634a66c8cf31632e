"""L2-regularised logistic regression by Newton's method (deterministic, numpy only), with the
features standardised on the training rows."""
import numpy as np


class LogReg:
    def __init__(self, l2: float = 1.0, iterations: int = 50) -> None:
        self.l2, self.iterations = l2, iterations

    def fit(self, x: np.ndarray, y: np.ndarray) -> "LogReg":
        self.mu, self.sd = x.mean(0), x.std(0) + 1e-12
        a = np.hstack([np.ones((len(x), 1)), (x - self.mu) / self.sd])
        w = np.zeros(a.shape[1])
        reg = self.l2 * np.eye(a.shape[1])
        reg[0, 0] = 0.0  # the intercept is not shrunk
        for _ in range(self.iterations):
            p = 1.0 / (1.0 + np.exp(-(a @ w)))
            grad = a.T @ (p - y) + reg @ w
            hess = (a * (p * (1 - p))[:, None]).T @ a + reg
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-10:
                break
        self.w = w
        return self

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The fitted log-odds of class 1."""
        return np.hstack([np.ones((len(x), 1)), (x - self.mu) / self.sd]) @ self.w
