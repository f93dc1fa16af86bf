"""Calibration studies: simulation-based calibration (SBC) and repeated sampling, on Dask.

:func:`calibrate` checks that a spec's posterior is calibrated on the skeleton of your own
panel (:mod:`bayescred.calibration.sbc`); :func:`repeated_sampling` measures bias, RMSE and
interval coverage of the reported quantities against a simulator's fixed truth
(:mod:`bayescred.calibration.study`). Both run their simulations on a ``distributed`` cluster
(:mod:`bayescred.calibration.engine`) and stream the results to one file that a restarted study
resumes from (:mod:`bayescred.calibration.store`).
"""

from bayescred.calibration.api import calibrate, repeated_sampling
from bayescred.calibration.result import CalibrationResult
from bayescred.calibration.study import StudyResult

__all__ = ["CalibrationResult", "StudyResult", "calibrate", "repeated_sampling"]
