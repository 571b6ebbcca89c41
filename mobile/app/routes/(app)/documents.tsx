export { DocumentsScreen as default } from "../../screens/DocumentsScreen";
