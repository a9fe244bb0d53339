using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.PostgreSql.Migrations
{
    /// <inheritdoc />
    public partial class CloudInitStaticNetworks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "StaticNics",
                table: "VmCloudInits",
                type: "jsonb",
                nullable: true);

            // Settings from before static addresses have none (an empty JSON array, which the owned collection reads as empty).
            migrationBuilder.Sql("UPDATE \"VmCloudInits\" SET \"StaticNics\" = '[]'::jsonb WHERE \"StaticNics\" IS NULL;");

            migrationBuilder.AddColumn<string>(
                name: "Gateway",
                table: "Networks",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Subnet",
                table: "Networks",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.UpdateData(
                table: "Networks",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000e1"),
                columns: new[] { "Gateway", "Subnet" },
                values: new object[] { null, null });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "StaticNics",
                table: "VmCloudInits");

            migrationBuilder.DropColumn(
                name: "Gateway",
                table: "Networks");

            migrationBuilder.DropColumn(
                name: "Subnet",
                table: "Networks");
        }
    }
}
