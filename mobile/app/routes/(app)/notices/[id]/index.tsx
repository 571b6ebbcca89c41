export { NoticeDetailScreen as default } from "../../../../screens/NoticeDetailScreen";
