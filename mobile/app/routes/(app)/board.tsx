export { BoardScreen as default } from "../../screens/BoardScreen";
