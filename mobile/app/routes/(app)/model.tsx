export { ModelScreen as default } from "../../screens/ModelScreen";
