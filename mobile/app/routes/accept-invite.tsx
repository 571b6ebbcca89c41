import { SafeAreaView } from "react-native-safe-area-context";

import { AcceptInviteScreen } from "../screens/AcceptInviteScreen";
import { colors } from "../theme";

/** Public: `/accept-invite?code=CODE` (web), `noticebot://accept-invite?code=CODE` (native). */
export default function AcceptInviteRoute() {
  return (
    <SafeAreaView style={{ flex: 1, backgroundColor: colors.background }}>
      <AcceptInviteScreen />
    </SafeAreaView>
  );
}
