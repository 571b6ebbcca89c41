import { useCallback, useState } from "react";

import { useApi, useAuth } from "../context/AuthContext";
import type { ApiResult, Device } from "../services/api";
import { useResource } from "./useResource";

/**
 * The signed-in member's devices in this workspace (the phones new notices are pushed to), which
 * of them is this one, and removing one. Reloaded when this device's registration changes, so a
 * phone that has just registered shows up.
 */
export function useDevices() {
  const api = useApi();
  const { push } = useAuth();
  const thisDeviceId = push?.kind === "registered" ? push.deviceId : null;
  const thisToken = push?.kind === "registered" ? push.token : null;
  const devices = useResource<Device[]>(() => api.listDevices(), [api, thisDeviceId, thisToken]);
  const [removing, setRemoving] = useState<string | null>(null);

  const isThisDevice = useCallback(
    // The API lists devices without their tokens; the id the registration answered is the match.
    (d: Device) => (thisDeviceId !== null && d.device_id === thisDeviceId) || (thisToken !== null && d.expo_push_token === thisToken),
    [thisDeviceId, thisToken],
  );

  const remove = useCallback(
    async (deviceId: string): Promise<ApiResult<null>> => {
      setRemoving(deviceId);
      try {
        const r = await api.removeDevice(deviceId);
        if (r.kind === "ok") devices.setData((list) => list?.filter((d) => d.device_id !== deviceId) ?? list);
        // Already gone (removed elsewhere, or the push service reported it dead): show the truth.
        else if (r.kind === "not-found") await devices.reload("quiet");
        return r;
      } finally {
        setRemoving(null);
      }
    },
    [api, devices],
  );

  return { devices, isThisDevice, remove, removing };
}
