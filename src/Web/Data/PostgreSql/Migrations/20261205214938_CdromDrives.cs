using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.PostgreSql.Migrations
{
    /// <inheritdoc />
    public partial class CdromDrives : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BootOrder",
                table: "VirtualMachines",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "CdromImageId",
                table: "VirtualMachines",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "HasCdrom",
                table: "VirtualMachines",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "VolumeLabel",
                table: "Images",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a1"),
                column: "Privileges",
                value: 4095);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a2"),
                column: "Privileges",
                value: 3647);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a3"),
                columns: new[] { "Description", "Privileges" },
                values: new object[] { "See, use the consoles of, and power VMs, and change their CD-ROM's disc.", 2055 });

            // Tokens made with every privilege keep every privilege, as SQLite's migration does.
            migrationBuilder.Sql("UPDATE \"ApiTokens\" SET \"Privileges\" = 4095 WHERE \"Privileges\" = 2047;");

            migrationBuilder.CreateIndex(
                name: "IX_VirtualMachines_CdromImageId",
                table: "VirtualMachines",
                column: "CdromImageId");

            migrationBuilder.AddForeignKey(
                name: "FK_VirtualMachines_Images_CdromImageId",
                table: "VirtualMachines",
                column: "CdromImageId",
                principalTable: "Images",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_VirtualMachines_Images_CdromImageId",
                table: "VirtualMachines");

            migrationBuilder.DropIndex(
                name: "IX_VirtualMachines_CdromImageId",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "BootOrder",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "CdromImageId",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "HasCdrom",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "VolumeLabel",
                table: "Images");

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a1"),
                column: "Privileges",
                value: 2047);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a2"),
                column: "Privileges",
                value: 1599);

            migrationBuilder.UpdateData(
                table: "AccessRoles",
                keyColumn: "Id",
                keyValue: new Guid("00000000-0000-0000-0000-0000000000a3"),
                columns: new[] { "Description", "Privileges" },
                values: new object[] { "See, use the consoles of, and power VMs.", 7 });
        }
    }
}
