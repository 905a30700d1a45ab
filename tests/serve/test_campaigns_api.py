"""/api/v1/campaigns over real HTTP on Ray Serve."""

from __future__ import annotations

import httpx

from tests.serve.conftest import Account, join


async def create(api: httpx.AsyncClient, who: Account, **fields: object) -> httpx.Response:
    body = {"name": "Spring release", "budget_minor": 150_000, "currency": "eur", **fields}
    return await api.post("/api/v1/campaigns", json=body, headers=who.headers)


class TestCampaignLifecycle:
    async def test_create_read_update_list_and_delete(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        created = await create(api, owner)
        assert created.status_code == 201, created.text
        campaign = created.json()
        assert (campaign["status"], campaign["currency"], campaign["budget_minor"]) == (
            "draft",
            "EUR",
            150_000,
        )

        read = await api.get(f"/api/v1/campaigns/{campaign['id']}", headers=owner.headers)
        assert read.json()["name"] == "Spring release"

        patched = await api.patch(
            f"/api/v1/campaigns/{campaign['id']}", json={"name": "Summer"}, headers=owner.headers
        )
        assert patched.json()["name"] == "Summer"
        assert (await api.get(f"/api/v1/campaigns/{campaign['id']}", headers=owner.headers)).json()[
            "name"
        ] == "Summer"

        listed = await api.get("/api/v1/campaigns", headers=owner.headers)
        assert [c["name"] for c in listed.json()["items"]] == ["Summer"]

        assert (
            await api.delete(f"/api/v1/campaigns/{campaign['id']}", headers=owner.headers)
        ).status_code == 204
        gone = await api.get(f"/api/v1/campaigns/{campaign['id']}", headers=owner.headers)
        assert gone.status_code == 404

    async def test_status_moves_through_the_state_machine(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign = (await create(api, owner)).json()
        url = f"/api/v1/campaigns/{campaign['id']}/status"
        assert (await api.post(url, json={"status": "active"}, headers=owner.headers)).json()[
            "status"
        ] == "active"
        refused = await api.post(url, json={"status": "draft"}, headers=owner.headers)
        assert refused.status_code == 409
        assert refused.json()["type"] == "/problems/invalid-transition"


class TestValidation:
    async def test_each_bad_field_is_named(self, api: httpx.AsyncClient, owner: Account) -> None:
        response = await create(
            api, owner, name="", budget_minor=-5, currency="euro", type="wedding"
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in response.json()["errors"]} == {
            "name",
            "budget_minor",
            "currency",
            "type",
        }

    async def test_an_unknown_sort_is_a_422_naming_sort(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await api.get("/api/v1/campaigns?sort=password", headers=owner.headers)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["sort"]


class TestAuthorisation:
    async def test_no_token_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/api/v1/campaigns")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_a_viewer_reads_but_cannot_write(
        self, api: httpx.AsyncClient, owner: Account
    ) -> None:
        campaign = (await create(api, owner)).json()
        viewer = await join(api, owner, "viewer")
        assert (
            await api.get(f"/api/v1/campaigns/{campaign['id']}", headers=viewer.headers)
        ).status_code == 200
        denied = await create(api, viewer)
        assert denied.status_code == 403
        assert "viewer" in denied.json()["detail"]

    async def test_another_workspace_gets_404_for_every_verb(
        self, api: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        campaign = (await create(api, owner)).json()
        url = f"/api/v1/campaigns/{campaign['id']}"
        for response in (
            await api.get(url, headers=stranger.headers),
            await api.patch(url, json={"name": "x"}, headers=stranger.headers),
            await api.delete(url, headers=stranger.headers),
            await api.post(f"{url}/status", json={"status": "active"}, headers=stranger.headers),
        ):
            assert response.status_code == 404
        assert (await api.get("/api/v1/campaigns", headers=stranger.headers)).json()["items"] == []
        assert (await api.get(url, headers=owner.headers)).json()["name"] == "Spring release"
