export { AuthCallbackScreen as default } from "../../screens/AuthCallbackScreen";
