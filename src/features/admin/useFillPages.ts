import { useEffect, useRef } from "react";

/** What the hook needs of `usePaginatedQuery`'s answer. */
type PaginatedList = {
  status: "LoadingFirstPage" | "CanLoadMore" | "LoadingMore" | "Exhausted";
  results: readonly unknown[];
  loadMore: (numItems: number) => void;
};

/** Ask for more until the list holds this many results… */
export const FILL_TARGET = 20;
/** …or this many further pages were asked for (then the page offers to continue on request). */
export const FILL_MAX_PAGES = 10;

/**
 * For a list whose server filters each page it reads (the users search, the audit log's kind and
 * person): a page holds only the matches among the documents it read, so it may hold few or none
 * and still not be the last. While `active`, asks for further pages of `pageSize` until the list
 * holds FILL_TARGET results, it ends, or FILL_MAX_PAGES pages were asked for since `filterKey`
 * (the filter's values, as a string) last changed.
 */
export function useFillPages(
  list: PaginatedList,
  { active, filterKey, pageSize }: { active: boolean; filterKey: string; pageSize: number },
) {
  const asked = useRef({ filterKey, pages: 0 });
  const { status, results, loadMore } = list;
  useEffect(() => {
    if (asked.current.filterKey !== filterKey) asked.current = { filterKey, pages: 0 };
    if (
      active &&
      status === "CanLoadMore" &&
      results.length < FILL_TARGET &&
      asked.current.pages < FILL_MAX_PAGES
    ) {
      asked.current.pages += 1;
      loadMore(pageSize);
    }
  }, [active, filterKey, pageSize, status, results.length, loadMore]);
}
