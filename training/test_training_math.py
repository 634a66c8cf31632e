"""Known-answer tests of the numpy math of the cross-validation report (no torch needed for most):
/usr/bin/python3 -m unittest discover -s training -p 'test_*.py'"""
import math
import unittest

import numpy as np

from abcd import asymmetry, components, fill_holes, lesion_mask, otsu_threshold
from calibration import bootstrap_auc_ci, ece, fit_platt, fit_temperature, rates_at, reliability_bins, sensitivity_at_specificity, youden_threshold
from logreg import LogReg


def disc(size=64, r=15, cx=32, cy=32):
    yy, xx = np.mgrid[:size, :size]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


class CalibrationTest(unittest.TestCase):
    def test_sensitivity_at_90_specificity(self):
        # 10 benign scores 0..9: one may lie above the threshold, so t = 8; melanomas above 8: 3 of 4
        scores = list(range(10)) + [5.5, 8.5, 9.5, 10]
        labels = [0] * 10 + [1] * 4
        self.assertEqual(sensitivity_at_specificity(scores, labels, 0.9), 0.75)
        # a tie with the threshold counts as a benign call
        self.assertEqual(sensitivity_at_specificity([0, 1, 1], [0, 0, 1], 0.9), 0.0)

    def test_ece_and_bins(self):
        probs, labels = [0.05, 0.05, 0.95, 0.95], [0, 1, 1, 1]
        self.assertAlmostEqual(ece(probs, labels), 0.5 * 0.45 + 0.5 * 0.05, places=12)
        bins = reliability_bins([0.0, 1.0, 0.1], [0, 1, 1])
        self.assertEqual([b["n"] for b in bins], [1, 1] + [0] * 7 + [1])  # 1.0 falls in the last, closed bin

    def test_temperature_known_answer(self):
        # z = +2 for 4 images (3 malignant) and -2 for 4 (1 malignant): the NLL is least where
        # sigmoid(2 / T) = 0.75, T = 2 / ln 3
        z = [2, 2, 2, 2, -2, -2, -2, -2]
        y = [1, 1, 1, 0, 0, 0, 0, 1]
        self.assertAlmostEqual(fit_temperature(z, y), 2 / math.log(3), places=5)

    def test_platt_known_answer(self):
        # z = +2: 3 of 4 malignant, z = 0: 1 of 4: the fit is exact, sigmoid(2 / T + c) = 0.75 and
        # sigmoid(c) = 0.25, so c = -ln 3 and 2 / T = 2 ln 3
        z = [2, 2, 2, 2, 0, 0, 0, 0]
        y = [1, 1, 1, 0, 0, 0, 0, 1]
        t, c = fit_platt(z, y)
        self.assertAlmostEqual(t, 1 / math.log(3), places=5)
        self.assertAlmostEqual(c, -math.log(3), places=5)

    def test_bootstrap_of_a_perfect_ranking(self):
        self.assertEqual(bootstrap_auc_ci([[0.1, 0.2, 0.8, 0.9]], [0, 0, 1, 1], iterations=50), [1.0, 1.0])


class ThresholdTest(unittest.TestCase):
    def test_rates_at_count_a_tie_as_malignant(self):
        r = rates_at([0.2, 0.3, 0.3, 0.6], [0, 0, 1, 1], 0.3)
        self.assertEqual((r["sensitivity"], r["specificity"]), (1.0, 0.5))

    def test_youden_on_the_two_decimal_grid(self):
        # benign 0.1 0.2 0.35, malignant 0.3 0.4 0.8: t in (0.35, 0.4] keeps all benign and 2 of 3 malignant
        # (J 2/3); t in (0.2, 0.3] all malignant and 2 of 3 benign (J 2/3): the tie goes to the lower t, 0.21
        probs, labels = [0.1, 0.2, 0.35, 0.3, 0.4, 0.8], [0, 0, 0, 1, 1, 1]
        best = youden_threshold(probs, labels)
        self.assertEqual(best["threshold"], 0.21)
        self.assertAlmostEqual(best["youdenJ"], 2 / 3, places=12)
        # separable: the first threshold above every benign score
        self.assertEqual(youden_threshold([0.1, 0.2, 0.7, 0.9], [0, 0, 1, 1])["threshold"], 0.21)
        self.assertEqual(youden_threshold([0.1, 0.2, 0.7, 0.9], [0, 0, 1, 1])["youdenJ"], 1.0)


class LogRegTest(unittest.TestCase):
    def test_unregularised_fit_gives_group_log_odds(self):
        x = np.array([[0.0]] * 4 + [[1.0]] * 4)
        y = np.array([0, 0, 0, 1, 0, 1, 1, 1.0])
        z = LogReg(l2=0.0).fit(x, y).decision(np.array([[0.0], [1.0]]))
        np.testing.assert_allclose(z, [-math.log(3), math.log(3)], atol=1e-9)


class AbcdTest(unittest.TestCase):
    def test_otsu_splits_two_modes(self):
        t = otsu_threshold(np.array([0.2] * 50 + [0.8] * 50))
        self.assertTrue(0.2 < t <= 0.8)

    def test_components_and_holes(self):
        m = np.zeros((9, 9), dtype=bool)
        m[1:4, 1:4] = True
        m[6:8, 6:8] = True
        self.assertEqual(components(m).max(), 2)
        ring = disc(32, 10, 16, 16) & ~disc(32, 4, 16, 16)
        self.assertTrue((fill_holes(ring) == disc(32, 10, 16, 16)).all())

    def test_asymmetry_of_a_disc_and_a_half_disc(self):
        a_major, a_minor, ecc = asymmetry(disc())
        self.assertLess(max(a_major, a_minor), 0.02)
        self.assertLess(ecc, 0.1)
        half = disc() & (np.mgrid[:64, :64][1] >= 32)  # a half disc is symmetric about one axis only
        a_major, a_minor, _ = asymmetry(half)
        self.assertLess(min(a_major, a_minor), 0.05)
        # mirrored about the other axis (through its centroid, 4r/3pi from the flat side) about a sixth is left over
        self.assertGreater(max(a_major, a_minor), 0.1)

    def test_lesion_mask_finds_a_dark_central_lesion_not_the_dark_corners(self):
        rgb = np.full((64, 64, 3), 0.8)
        rgb[disc(64, 12)] = 0.2
        corners = ~disc(64, 40)  # a dermoscope's dark field-of-view border
        rgb[corners] = 0.05
        mask = lesion_mask(rgb)
        self.assertFalse(mask[0, 0])
        self.assertTrue(mask[32, 32])
        self.assertLess(abs(mask.sum() - disc(64, 12).sum()) / disc(64, 12).sum(), 0.15)


class PinnedCpuKernelsTest(unittest.TestCase):
    """training/common.py refuses to train unless PyTorch's CPU kernels are pinned (imports torch)."""

    def test_refuses_unpinned_or_other_kernels_and_names_the_variables(self):
        from unittest import mock

        import common
        for env in ({"ATEN_CPU_CAPABILITY": "", "ONEDNN_MAX_CPU_ISA": ""}, {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX2"},
                    {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}):
            with mock.patch.dict("os.environ", env), self.assertRaises(SystemExit) as caught:
                common.seed_everything(1)
            self.assertIn("ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2", str(caught.exception))

    def test_pinned_kernels_are_recorded(self):
        from unittest import mock

        import common
        with mock.patch.dict("os.environ", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}), \
                mock.patch.object(common, "aten_cpu_capability", return_value="AVX2"):
            got = common.require_pinned_cpu_kernels()
        self.assertEqual((got["ATEN_CPU_CAPABILITY"], got["ONEDNN_MAX_CPU_ISA"], got["atenCpuCapability"]), ("avx2", "AVX2", "AVX2"))
        with mock.patch.dict("os.environ", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}), \
                mock.patch.object(common, "aten_cpu_capability", return_value="NO AVX"), self.assertRaises(SystemExit):
            common.require_pinned_cpu_kernels()


if __name__ == "__main__":
    unittest.main()
