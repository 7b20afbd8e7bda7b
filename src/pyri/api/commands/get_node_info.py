"""getNodeInfo (iri-api-reference §4.1): IRI 1.8.6's fields, in its order."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.params import Request

NAME: Final = "getNodeInfo"


def handle(request: Request, context: Context) -> dict[str, object]:
    info = context.backend.node_info()
    features = list(info.features)
    # IRI adds RemotePOW unless attachToTangle is limited; pyri has no attachToTangle, so it
    # never advertises RemotePOW. WereAddressesSpentFrom follows IRI 1.8.6 (§4.1).
    if "wereAddressesSpentFrom" not in context.config.remote_limit_api:
        features.append("WereAddressesSpentFrom")
    return {
        "appName": info.app_name,
        "appVersion": info.app_version,
        "jreAvailableProcessors": info.jre_available_processors,
        "jreFreeMemory": info.jre_free_memory,
        "jreVersion": info.jre_version,
        "jreMaxMemory": info.jre_max_memory,
        "jreTotalMemory": info.jre_total_memory,
        "latestMilestone": info.latest_milestone,
        "latestMilestoneIndex": info.latest_milestone_index,
        "latestSolidSubtangleMilestone": info.latest_solid_subtangle_milestone,
        "latestSolidSubtangleMilestoneIndex": info.latest_solid_subtangle_milestone_index,
        "milestoneStartIndex": info.milestone_start_index,
        "lastSnapshottedMilestoneIndex": info.last_snapshotted_milestone_index,
        "neighbors": info.neighbors,
        "packetsQueueSize": info.packets_queue_size,
        "time": info.time,
        "tips": info.tips,
        "transactionsToRequest": info.transactions_to_request,
        "features": features,
        "coordinatorAddress": info.coordinator_address,
        "dbSizeInBytes": info.db_size_in_bytes,
    }
