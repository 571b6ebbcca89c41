export { MembersScreen as default } from "../../screens/MembersScreen";
