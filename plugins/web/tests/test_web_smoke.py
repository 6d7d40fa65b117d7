def test_login_and_list(web):
    client = web.client("agent")
    response = client.get("/issues")
    assert response.status_code == 200, response.text
    assert "问题" in response.text


def test_api_create(web):
    client = web.client("agent")
    response = client.post("/api/v1/issues", json={"title": "打印机卡纸"}, headers=web.headers(client))
    assert response.status_code == 201, response.text
    assert response.headers["etag"]
