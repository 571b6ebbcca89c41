export { ProfileScreen as default } from "../../screens/ProfileScreen";
