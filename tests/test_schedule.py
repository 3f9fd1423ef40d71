"""The annual schedule: 1 January ingests the year that ended; once that run succeeds, a
sensor starts the edition of the same year, so ingesting and releasing are two visible runs."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines import cli


@pytest.fixture(scope="module")
def defs(pipeline_home):
    return cli._definitions()


def finished_ingest(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    """A successful run of the ingest job, as the schedule would have launched it."""

    @dg.op
    def noop() -> None:
        pass

    @dg.job(name="ingest")
    def ingest_stand_in():
        noop()

    result = ingest_stand_in.execute_in_process(instance=instance, tags=tags)
    assert result.success
    return instance.get_run_by_id(result.run_id)


def sensor_outcome(defs, run: dg.DagsterRun, instance: dg.DagsterInstance):
    from pipelines.definitions import edition_after_annual_ingest

    success = next(
        record.dagster_event
        for record in instance.all_logs(run.run_id)
        if record.dagster_event
        and record.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS
    )
    context = dg.build_run_status_sensor_context(
        sensor_name=edition_after_annual_ingest.name,
        dagster_event=success,
        dagster_instance=instance,
        dagster_run=run,
    )
    return edition_after_annual_ingest(context)


def test_the_schedule_ingests_the_year_that_ended(defs) -> None:
    schedule = defs.get_schedule_def("annual_ingest_schedule")
    assert schedule.job_name == "ingest"
    assert schedule.cron_schedule == "0 0 1 1 *"


def test_a_scheduled_ingest_is_followed_by_its_edition(defs) -> None:
    with dg.instance_for_test() as instance:
        run = finished_ingest(
            instance,
            {"dagster/schedule_name": "annual_ingest_schedule", "dagster/partition": "2025"},
        )
        request = sensor_outcome(defs, run, instance)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2025"


def test_an_ingest_by_hand_releases_nothing(defs) -> None:
    with dg.instance_for_test() as instance:
        run = finished_ingest(instance, {"dagster/partition": "2024"})
        outcome = sensor_outcome(defs, run, instance)
    assert isinstance(outcome, dg.SkipReason)
