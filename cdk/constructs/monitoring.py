"""Monitoring: one dashboard and the alarms that page, all through one SNS topic.

Alarms (each -> topic; OK transitions too, so a page closes itself):
    ingest dead-letter queue holds a message          (an upload failed 3 times)
    fine-tune deploy dead-letter queue holds a message (a finished job was not deployed)
    notify dead-letter queue holds a message           (a notice's pushes failed 5 times)
    upload queue backlog older than 15 minutes        (ingest is stuck or throttled)
    API 5xx responses                                  (> 5 in 5 minutes)
    API function p99 duration (all but the chat)       (config api.latency_alarm_ms)
    per function: errors, throttles
    endpoint: model latency p99, invocation errors     (base inference component)
    search: cluster red / low storage (domain mode)
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.config import StageConfig
from cdk.constructs.api import Api
from cdk.constructs.function import ServiceFunction
from cdk.constructs.ingestion import Ingestion
from cdk.constructs.models import Models
from cdk.constructs.search import Search

FIVE_MIN = cdk.Duration.minutes(5)


class Monitoring(Construct):
    """Exposes `topic`, `dashboard`, `alarms` (name -> Alarm)."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, key: kms.IKey, api: Api,
                 ingestion: Ingestion, functions: list[ServiceFunction], models: Models,
                 search: Search, deploy_dead_letters: sqs.IQueue | None = None,
                 notify_dead_letters: sqs.IQueue | None = None) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Alarms", topic_name=f"{config.prefix}-alarms",
                               display_name=f"{config.prefix} alarms", master_key=key,
                               enforce_ssl=True)
        # CloudWatch publishes to the encrypted topic with the stage key.
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsToTopic",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}}))
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        action = cw_actions.SnsAction(self.topic)
        self.alarms: dict[str, cw.Alarm] = {}

        def alarm(name, metric, threshold, description, *, comparison=cw.ComparisonOperator
                  .GREATER_THAN_OR_EQUAL_TO_THRESHOLD, periods=1):
            a = metric.create_alarm(
                self, name, alarm_name=f"{config.prefix}-{name}", alarm_description=description,
                threshold=threshold, evaluation_periods=periods, comparison_operator=comparison,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
            a.add_alarm_action(action)
            a.add_ok_action(action)
            self.alarms[name] = a
            return a

        dlq, queue = ingestion.dead_letter_queue, ingestion.queue
        alarm("ingest-dead-letters",
              dlq.metric_approximate_number_of_messages_visible(period=FIVE_MIN, statistic="Maximum"),
              1, "An upload failed ingestion 3 times and sits in the dead-letter queue")
        if deploy_dead_letters is not None:
            alarm("deploy-dead-letters",
                  deploy_dead_letters.metric_approximate_number_of_messages_visible(
                      period=FIVE_MIN, statistic="Maximum"),
                  1, "A finished fine-tune's event was not handled (deploy function failed "
                     "after retries, or the event could not be delivered)")
        if notify_dead_letters is not None:
            alarm("notify-dead-letters",
                  notify_dead_letters.metric_approximate_number_of_messages_visible(
                      period=FIVE_MIN, statistic="Maximum"),
                  1, "A notice event failed its pushes 5 times (Expo unreachable or refusing, "
                     "or the Expo token secret unreadable) and sits in the dead-letter queue")
        alarm("ingest-backlog",
              queue.metric_approximate_age_of_oldest_message(period=FIVE_MIN, statistic="Maximum"),
              900, "Uploads have waited over 15 minutes for ingestion")
        rest = api.rest_api
        alarm("api-5xx", rest.metric_server_error(period=FIVE_MIN, statistic="Sum"), 5,
              "The API answered 5xx 5+ times in 5 minutes")
        # The API function's duration, not the REST API's Latency: that one also counts the
        # streamed chats (POST /api/chat, the chat function), which take as long as the model
        # writes, so its p99 would page on a busy, healthy chat.
        alarm("api-latency-p99",
              api.function.function.metric_duration(period=FIVE_MIN, statistic="p99"),
              config.api.latency_alarm_ms,
              "API p99 latency (every route but the streamed chat) above the configured limit",
              periods=3)
        for f in functions:
            fn = f.function
            name = f.name
            alarm(f"{name}-errors", fn.metric_errors(period=FIVE_MIN, statistic="Sum"), 1,
                  f"The {name} function raised errors")
            alarm(f"{name}-throttles", fn.metric_throttles(period=FIVE_MIN, statistic="Sum"), 1,
                  f"The {name} function was throttled")

        component = {"InferenceComponentName": models.base_component_name}
        model_latency = cw.Metric(namespace="AWS/SageMaker", metric_name="ModelLatency",
                                  dimensions_map=component, statistic="p99", period=FIVE_MIN)
        model_errors = cw.MathExpression(
            expression="e4 + e5", label="Invocation errors", period=FIVE_MIN,
            using_metrics={
                "e4": cw.Metric(namespace="AWS/SageMaker", metric_name="Invocation4XXErrors",
                                dimensions_map=component, statistic="Sum", period=FIVE_MIN),
                "e5": cw.Metric(namespace="AWS/SageMaker", metric_name="Invocation5XXErrors",
                                dimensions_map=component, statistic="Sum", period=FIVE_MIN)})
        # ModelLatency is in microseconds.
        alarm("llm-latency-p99", model_latency, 20_000_000,
              "LLM p99 model latency above 20 s", periods=3)
        alarm("llm-invocation-errors", model_errors, 5, "LLM invocation errors (5+ in 5 minutes)")

        search_widgets = []
        if search.mode == "domain":
            dims = {"DomainName": search.domain_name,
                    "ClientId": cdk.Stack.of(self).account}
            red = cw.Metric(namespace="AWS/ES", metric_name="ClusterStatus.red",
                            dimensions_map=dims, statistic="Maximum", period=cdk.Duration.minutes(1))
            free = cw.Metric(namespace="AWS/ES", metric_name="FreeStorageSpace",
                             dimensions_map=dims, statistic="Minimum", period=FIVE_MIN)
            alarm("search-red", red, 1, "The search domain is red (a primary shard is unassigned)")
            alarm("search-storage-low", free, max(1024, config.search.volume_gb * 1024 // 5),
                  "Under 20% storage left on a search node (MB)",
                  comparison=cw.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD)
            search_widgets = [cw.GraphWidget(title="Search: status / free storage (MB)",
                                             left=[red], right=[free], width=12)]

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{config.prefix}-overview")
        self.dashboard.add_widgets(
            cw.GraphWidget(title="API requests and errors", width=12,
                           left=[rest.metric_count(period=FIVE_MIN)],
                           right=[rest.metric_client_error(period=FIVE_MIN),
                                  rest.metric_server_error(period=FIVE_MIN)]),
            cw.GraphWidget(title="API latency (p50 / p99, ms)", width=12,
                           left=[rest.metric_latency(period=FIVE_MIN, statistic="p50"),
                                 rest.metric_latency(period=FIVE_MIN, statistic="p99")]))
        self.dashboard.add_widgets(*[
            cw.GraphWidget(title=f"{f.name} function: invocations / errors / "
                                 "throttles / p99 duration", width=12,
                           left=[f.function.metric_invocations(period=FIVE_MIN),
                                 f.function.metric_errors(period=FIVE_MIN),
                                 f.function.metric_throttles(period=FIVE_MIN)],
                           right=[f.function.metric_duration(period=FIVE_MIN, statistic="p99")])
            for f in functions])
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Ingest queue: waiting / oldest (s) / dead letters", width=12,
                           left=[queue.metric_approximate_number_of_messages_visible(period=FIVE_MIN),
                                 dlq.metric_approximate_number_of_messages_visible(period=FIVE_MIN)],
                           right=[queue.metric_approximate_age_of_oldest_message(period=FIVE_MIN)]),
            cw.GraphWidget(title="LLM: invocations, copies, p99 latency (us), errors", width=12,
                           left=[cw.Metric(namespace="AWS/SageMaker", metric_name="Invocations",
                                           dimensions_map=component, statistic="Sum",
                                           period=FIVE_MIN),
                                 cw.Metric(namespace="/aws/sagemaker/InferenceComponents",
                                           metric_name="CopyCount", dimensions_map=component,
                                           statistic="Maximum", period=FIVE_MIN),
                                 model_errors],
                           right=[model_latency]),
            *search_widgets)
