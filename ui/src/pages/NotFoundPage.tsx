import { Link } from "react-router";
import { Empty } from "@/components/states";

export default function NotFoundPage() {
  return (
    <Empty title="There is no page here">
      <Link className="text-indigo-700 underline" to="/">
        Go to the dashboard
      </Link>
    </Empty>
  );
}
