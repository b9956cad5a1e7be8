"""Raw FMCW radar (TI-style ADC cubes, DCA1000 captures) to range-time, Doppler-time and
azimuth-time views, streaming and with pinned axis conventions."""

from importlib.metadata import version

from .config import SPEED_OF_LIGHT, RadarConfig
from .crop import DEFAULT_BINS, crop_or_pad
from .dca1000 import DCA1000_FORMATS, DCA1000Capture, read_dca1000, write_dca1000
from .detection import CfarConfig, PointCloudChain, detect_points
from .errors import RadarViewsError
from .files import (
    OutputExistsError,
    OutputLockedError,
    atomic_write,
    check_new_output,
    current_umask,
    lock_path,
    move_aside,
    output_lock,
    replace_directory,
    staged_directory,
)
from .normalize import NORMALIZATIONS, normalize_view
from .points import ANGLES, POINT_FIELDS, WEIGHTS, PointCloud, check_angle, point_bins, point_cloud_views
from .processing import (
    AZIMUTH_BINS,
    AZIMUTH_METHODS,
    FrameStatistics,
    azimuth_spectrum,
    frame_powers,
    frame_statistics,
    steering_matrix,
)
from .profiles import DEFAULT_SENSOR, SENSOR_CHAINS, SENSOR_PROFILES, sensor_chain, sensor_profile
from .views import VIEW_NAMES, RadarViews, chunk_frames, compute_views, iter_views

__all__ = [
    "RadarViewsError",
    "RadarConfig",
    "RadarViews",
    "compute_views",
    "iter_views",
    "read_dca1000",
    "write_dca1000",
    "crop_or_pad",
    "chunk_frames",
    "normalize_view",
    "frame_powers",
    "frame_statistics",
    "FrameStatistics",
    "azimuth_spectrum",
    "steering_matrix",
    "DCA1000Capture",
    "NORMALIZATIONS",
    "AZIMUTH_METHODS",
    "AZIMUTH_BINS",
    "DCA1000_FORMATS",
    "VIEW_NAMES",
    "DEFAULT_BINS",
    "SPEED_OF_LIGHT",
    "atomic_write",
    "current_umask",
    "move_aside",
    "check_new_output",
    "staged_directory",
    "OutputExistsError",
    "OutputLockedError",
    "output_lock",
    "lock_path",
    "replace_directory",
    "PointCloud",
    "POINT_FIELDS",
    "WEIGHTS",
    "ANGLES",
    "check_angle",
    "point_cloud_views",
    "point_bins",
    "CfarConfig",
    "PointCloudChain",
    "detect_points",
    "SENSOR_PROFILES",
    "SENSOR_CHAINS",
    "DEFAULT_SENSOR",
    "sensor_profile",
    "sensor_chain",
]
__version__ = version("radar-views")
