"""The method as Dagster run configuration of the dbt build (set by `city-index release`,
editable in the launchpad); defaults are MethodConfig's."""

import dagster as dg

from pipelines.index.method import MethodConfig

_DEFAULTS = MethodConfig()


class MethodRunConfig(dg.Config):
    """The engine's options for this build (see pipelines.index.method.MethodConfig)."""

    treat: str = _DEFAULTS.treat
    impute: str = _DEFAULTS.impute
    normalise: str = _DEFAULTS.normalise
    range_lower: float = _DEFAULTS.range_lower
    range_upper: float = _DEFAULTS.range_upper
    aggregate: str = _DEFAULTS.aggregate
    screen_threshold: float = _DEFAULTS.screen_threshold
    weights: dict[str, float] = {}

    def method(self) -> MethodConfig:
        """Validated: an invalid option fails the build with the setting's name."""
        return MethodConfig(**self.model_dump())
