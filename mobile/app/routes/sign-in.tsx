import { SafeAreaView } from "react-native-safe-area-context";

import { SignInScreen } from "../screens/SignInScreen";
import { colors } from "../theme";

export default function SignInRoute() {
  return (
    <SafeAreaView style={{ flex: 1, backgroundColor: colors.background }}>
      <SignInScreen />
    </SafeAreaView>
  );
}
