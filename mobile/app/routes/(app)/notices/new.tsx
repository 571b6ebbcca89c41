export { NoticeEditScreen as default } from "../../../screens/NoticeEditScreen";
