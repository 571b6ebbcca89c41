"""The caller's devices in this workspace: the Expo push tokens its notices are pushed to.
Each member sees and removes only their own; a token registered again is the same device,
and one another member had registered (a shared or handed-on phone) becomes the caller's."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.domain.notifications import Platform
from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, WITH_BODY, declare
from noticebot.handlers.api.schemas_members import DeviceIn, DeviceList, DeviceOut

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.post("/devices", summary="Register this phone or browser for pushes", status_code=201,
             responses=declare(201, "The device (the same one again for a known token)",
                               SIGNED_IN, WITH_BODY))
def register_device(device: DeviceIn) -> DeviceOut:
    registered = request_container(router).notifications.register_device(
        _principal(), device.expo_push_token, Platform(device.platform))
    return DeviceOut.of(registered)


@router.get("/devices", summary="Your devices in this workspace",
            responses=declare(200, "Your registered devices, oldest first", SIGNED_IN))
def list_devices() -> DeviceList:
    devices = request_container(router).notifications.list_devices(_principal())
    return DeviceList(devices=[DeviceOut.of(d) for d in devices])


@router.delete("/devices/<device_id>", summary="Stop pushing to one of your devices",
               status_code=204,
               responses=declare(204, "Removed", SIGNED_IN, BY_ID, no_content=True))
def delete_device(device_id: str):
    request_container(router).notifications.delete_device(_principal(), device_id)
    return Response(status_code=204, content_type=None, body="")
